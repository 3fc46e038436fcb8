/** Command-line options shared by the long-running scripts (fuzz, crash test): --help, whole numbers, --seed. */

/** Prints the usage and exits for `--help`. */
export function exitOnHelp(help: boolean | undefined, usage: string): void {
  if (!help) return
  process.stdout.write(usage)
  process.exit(0)
}

/** A reader of whole-number options: anything else prints the usage and exits 2. */
export function wholeNumbers(usage: string): (name: string, text: string) => number {
  return (name, text) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < 0) {
      process.stderr.write(`--${name}: expected a whole number, got ${text}\n\n${usage}`)
      process.exit(2)
    }
    return n
  }
}

/** The `--seed` given, or a random one (the script prints it, so a run can be repeated). */
export function seedOption(text: string | undefined, usage: string): number {
  return text === undefined
    ? Math.floor(Math.random() * 2 ** 31)
    : wholeNumbers(usage)('seed', text)
}
