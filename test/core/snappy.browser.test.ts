import { defineSnappyTests } from './snappy.cases.ts';

defineSnappyTests();
