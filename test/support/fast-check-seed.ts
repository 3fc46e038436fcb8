/**
 * Property tests explore new random cases on every local run; in CI (CI=true) they replay
 * one fixed seed so that a run is reproducible. FC_SEED overrides both.
 */
import fc from 'fast-check'

const seed = process.env.FC_SEED ?? (process.env.CI ? '20261123' : undefined)
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) })
