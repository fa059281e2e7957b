import { defineLz4Tests } from './lz4.cases.ts';

defineLz4Tests();
