/**
 * The affiliate cache through the real `./bin/run serve` on its sandbox: an identical repeat costs no request, and
 * a sandbox reset (which forgets affiliates and restarts their ids, as Refersion never does) makes the served
 * destination forget what it remembered, so the next identify creates the affiliate again — in watch mode (the
 * destination runs in a worker process) and with --no-watch (same process).
 */
import { freePort, poster, Served, startServe } from './helpers'

const settings = { apiKey: 'pub_cache.sec_CacheSecret_1' }
const identify = {
  type: 'identify',
  userId: 'cache-user-1',
  traits: { name: 'Nina Gibbons', email: 'nina@initech.com', phone: '+1 555 0123' }
}

type Exchange = { request: { url: string } }
const paths = (exchanges: Exchange[]) => exchanges.map((e) => new URL(e.request.url).pathname)

describe.each([[[] as string[]], [['--no-watch']]])('serve %j: the cache and sandbox resets', (extra) => {
  let served: Served

  beforeAll(async () => {
    served = await startServe(['--sandbox', '--port', String(await freePort()), ...extra])
  }, 30_000)

  afterAll(async () => {
    await served?.cli.stop()
  })

  it('an identical repeat sends nothing; after a sandbox reset the same identify creates the affiliate again', async () => {
    const post = poster(served.url)
    const first = await post('/createAffiliate', { settings, payload: identify })
    expect(paths(first.json)).toEqual(['/v2/affiliate/new'])

    const repeat = await post('/createAffiliate', { settings, payload: identify })
    expect(repeat.status).toBe(200)
    expect(repeat.json).toEqual([])
    expect(JSON.parse(repeat.headers.get('x-serve-result') ?? '{}')).toMatchObject({ outcome: 'unchanged' })

    const reset = await fetch(`${served.sandboxUrl}/_sandbox/reset`, { method: 'POST' })
    expect(reset.status).toBe(200)
    // The supervisor tells its worker over IPC; give the message a moment to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200))

    const again = await post('/createAffiliate', { settings, payload: identify })
    expect(paths(again.json)).toEqual(['/v2/affiliate/new'])
    const affiliates = await (await fetch(`${served.sandboxUrl}/_sandbox/affiliates`)).json()
    expect(affiliates.total).toBe(1)
  })
})
