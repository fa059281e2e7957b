import { zstdCases } from './zstd.cases.ts';
zstdCases();
