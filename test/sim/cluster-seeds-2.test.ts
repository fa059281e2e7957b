// Seeds 251..500 of the cluster simulation (the seeds are split over files so that they run in parallel).
import { describeSeeds } from './cluster-seeds.ts';

describeSeeds(251, 250);
