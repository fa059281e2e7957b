// Seeds 1..250 of the cluster simulation (the seeds are split over files so that they run in parallel).
import { describeSeeds } from './cluster-seeds.ts';

describeSeeds(1, 250);
