// Command-line options of bench/proxy.

export const TARGETS = ['direct', 'undici', 'undici-ctl', 'fastify', 'http-proxy', 'dgate'] as const
export type TargetName = (typeof TARGETS)[number]
/** Run unless --targets says otherwise; `undici-ctl` (the pass-through on undici's controller-style handler) is opt-in. */
export const DEFAULT_TARGETS: TargetName[] = ['direct', 'undici', 'fastify', 'http-proxy', 'dgate']

export interface Options {
  durationSeconds: number
  warmupSeconds: number
  connections: number
  threads: number
  targets: TargetName[]
  sizes: number[]
  /** POST upload sizes (empty: no upload scenario). */
  posts: number[]
  rounds: number
  /** Before each run, wait up to this many seconds for other processes to use < 25% of the CPUs. */
  waitQuietSeconds: number
  install: boolean
  pin: boolean
}

export const USAGE = `usage: node bench/run.mjs bench/proxy/main.ts [options]
  --duration <s>       measured seconds per target and scenario (default 10)
  --warmup <s>         unmeasured warm-up seconds before each measurement (default 2)
  --connections <n>    keep-alive client connections (default 50)
  --threads <n>        wrk threads (default 2)
  --targets <list>     any of ${TARGETS.join(',')} (default ${DEFAULT_TARGETS.join(',')})
  --sizes <list>       GET response body sizes in bytes (default 100,16384)
  --post <list>        POST upload sizes in bytes, or 'none' (default 16384)
  --rounds <n>         repeat every scenario n times, targets interleaved; report medians (default 1)
  --wait-quiet <s>     before each run, wait up to s seconds for other processes to use < 25% of the CPUs (default 0)
  --no-pin             do not pin processes to CPUs with taskset
  --install            install wrk with apt-get when missing (as root)`

function numberList(text: string, flag: string): number[] {
  if (text === 'none' || text === '') return []
  return text.split(',').map((item) => {
    const n = Number(item)
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: '${item}' is not a byte count`)
    return n
  })
}

function positive(text: string | undefined, flag: string): number {
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got '${text}'`)
  return n
}

export function parseOptions(argv: string[]): Options {
  const options: Options = {
    durationSeconds: 10,
    warmupSeconds: 2,
    connections: 50,
    threads: 2,
    targets: [...DEFAULT_TARGETS],
    sizes: [100, 16_384],
    posts: [16_384],
    rounds: 1,
    waitQuietSeconds: 0,
    install: false,
    pin: true,
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      const next = argv[++i]
      if (next === undefined) throw new Error(`${flag}: missing value`)
      return next
    }
    switch (flag) {
      case '--duration':
        options.durationSeconds = positive(value(), flag)
        break
      case '--warmup':
        options.warmupSeconds = Number(value())
        break
      case '--connections':
        options.connections = Math.round(positive(value(), flag))
        break
      case '--threads':
        options.threads = Math.round(positive(value(), flag))
        break
      case '--targets': {
        const names = value().split(',')
        const unknown = names.filter((name) => !(TARGETS as readonly string[]).includes(name))
        if (unknown.length) throw new Error(`--targets: unknown ${unknown.join(', ')} (known: ${TARGETS.join(', ')})`)
        options.targets = TARGETS.filter((name) => names.includes(name)) // fixed order
        break
      }
      case '--sizes':
        options.sizes = numberList(value(), flag)
        break
      case '--post':
        options.posts = numberList(value(), flag)
        break
      case '--rounds':
        options.rounds = Math.round(positive(value(), flag))
        break
      case '--wait-quiet':
        options.waitQuietSeconds = Number(value())
        break
      case '--install':
        options.install = true
        break
      case '--no-pin':
        options.pin = false
        break
      case '--help':
      case '-h':
        console.log(USAGE)
        process.exit(0)
        break
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`)
    }
  }
  // wrk needs at least one connection per thread.
  options.threads = Math.min(options.threads, options.connections)
  return options
}
