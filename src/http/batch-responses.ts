/**
 * Responses handed to Node in bursts: the ones that finish while the event loop handles
 * one batch of ready sockets are written together, after the batch, instead of each as
 * soon as it is ready.
 *
 * A response written to a socket whose reader is asleep wakes that reader, and waking a
 * thread on another CPU is an interrupt to that CPU, paid inside the write. With the client
 * on the same machine (a load test, a co-located identity bridge) `perf record` put 13% of
 * a `GET /Users/<id>`'s CPU time there, in `sock_def_readable`: scimd took longer per
 * request than the client, so the client slept before every response. Written in a burst,
 * the first response wakes the client and the others find it awake. `GET /Users/<id>` and
 * the existence check went from about 20k and 17k to 25k req/s (npm run bench). No
 * response waits for more than the batch it arrived in, whose requests the single event
 * loop would have answered before the next batch anyway.
 */

type Fetch<A extends unknown[]> = (request: Request, ...rest: A) => Response | Promise<Response>

export function batchResponses<A extends unknown[]>(
  fetch: Fetch<A>,
): (request: Request, ...rest: A) => Promise<Response> {
  let held: Array<() => void> = []
  // In the loop's check phase (setImmediate), which follows the poll phase that handled
  // the batch of sockets; responses finished during a check phase go out in the next one.
  const release = () => {
    const batch = held
    held = []
    for (const hand of batch) hand()
  }
  const hold = (response: Response) =>
    new Promise<Response>((resolve) => {
      if (held.push(() => resolve(response)) === 1) setImmediate(release)
    })
  // Hono turns errors into responses, so a rejection is a fault of its own: not held.
  return (request, ...rest) => Promise.resolve(fetch(request, ...rest)).then(hold)
}
