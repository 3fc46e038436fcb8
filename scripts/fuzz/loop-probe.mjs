/**
 * Preloaded into a scimd process under test (`node --import ./scripts/fuzz/loop-probe.mjs`):
 * answers IPC questions about how long the event loop was held since the last question (in
 * wall and in CPU time) and
 * about memory, so the fuzzer and the crash test measure scimd without scimd knowing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

// 10 ms resolution: the histogram samples how late a 10 ms timer fired, so a request that
// held the loop for 800 ms shows as a delay of about 800 ms.
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()

// The same holds in CPU time: the most CPU the process spent between two ticks of a 10 ms
// timer. On a loaded machine a hold's wall time stretches with the share of a core the
// process gets; its CPU time is about what the hold would last on an idle one (an upper
// bound: it counts V8's helper threads too).
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
let lastCpu = cpuMs()
let maxCpuMs = 0
setInterval(() => {
  const now = cpuMs()
  maxCpuMs = Math.max(maxCpuMs, now - lastCpu)
  lastCpu = now
}, 10).unref()

if (process.send) {
  process.on('message', (message) => {
    if (!message || typeof message !== 'object' || message.probe === undefined) return
    if (message.probe === 'loop') {
      // The largest delay since the last 'loop' question, in ms, then start over.
      const maxMs = delay.max / 1e6
      delay.reset()
      const now = cpuMs()
      const cpu = Math.max(maxCpuMs, now - lastCpu)
      maxCpuMs = 0
      lastCpu = now
      process.send?.({ probe: 'loop', id: message.id, maxMs, cpuMs: cpu })
    } else if (message.probe === 'memory') {
      if (message.gc && typeof globalThis.gc === 'function') globalThis.gc()
      const m = process.memoryUsage()
      process.send?.({ probe: 'memory', id: message.id, rss: m.rss, heapUsed: m.heapUsed })
    }
  })
  // The channel must not keep scimd alive on its own (its SIGTERM shutdown exits anyway).
  process.channel?.unref()
}
