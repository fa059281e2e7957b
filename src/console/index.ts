/**
 * wafka/console: the console as one import, for a developer's own page.
 *
 *   import { mountConsole } from 'wafka/console';
 *   mountConsole(document.querySelector('#console'), { cluster });   // a cluster this page started or connected to
 *   mountConsole(element, { feedUrl: 'http://127.0.0.1:8080' });      // a Node cluster served by `wafka start`
 */
export { mountConsole, type MountConsoleOptions, type MountedConsole } from './ui/mount.ts';
export { clusterSource, type ClusterSourceOptions } from './cluster-source.ts';
export { feedSource } from './feed-source.ts';
export { takeSnapshot } from './snapshot.ts';
export type * from './types.ts';
