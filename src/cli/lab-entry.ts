/**
 * When the CLI loads the lab. The lab's modules (namespaces, probers, peers' drivers) are only
 * imported for `vmac lab …` and `vmac help lab`; every other command, `vmac run` above all, starts
 * without them. Pure: reads the arguments after `node main.js`.
 */
export const LAB_SUMMARY = 'build a virtual cluster of network namespaces on this machine and measure it';

/** True when the first command word is `lab`, or `help lab`. Options before it are skipped. */
export function wantsLab(args: readonly string[]): boolean {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'lab' || (words[0] === 'help' && words[1] === 'lab');
}
