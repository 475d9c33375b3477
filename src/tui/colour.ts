// Colour on or off for the screen, from the environment: NO_COLOR (https://no-color.org) turns it
// off, FORCE_COLOR forces it (chalk reads FORCE_COLOR itself, and it wins over NO_COLOR). Pure.

/** The colour level to give chalk, or undefined to keep chalk's own choice. */
export function colourLevel(env: NodeJS.ProcessEnv): 0 | undefined {
  if (env.FORCE_COLOR !== undefined) return undefined;
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? 0 : undefined;
}
