import { defineCoreTests } from './core.cases.ts';

defineCoreTests();
