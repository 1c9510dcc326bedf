/**
 * Path router throughput: matches per second over a ~200-route table, against a plain `Map`
 * lookup of static paths as the baseline.
 *
 * Build and run:
 *   npx tsup bench/routing/main.ts --format esm -d temp/bench-routing && node temp/bench-routing/main.js
 */
import { compileRouter } from '../../src/routing/index.js'
import type { RouteRegistration } from '../../src/routing/index.js'

const resources = ['users', 'orders', 'products', 'invoices', 'carts', 'reviews', 'coupons', 'shipments', 'payments', 'refunds']

function routeTable(): RouteRegistration<number>[] {
  const routes: RouteRegistration<number>[] = []
  const add = (pattern: string, methods: string[]) => routes.push({ pattern, methods, value: routes.length })
  for (const r of resources) {
    // 8 static routes per resource: 80
    for (const s of ['', '/search', '/export', '/import', '/stats', '/schema', '/bulk', '/count']) {
      add(`/api/v1/${r}${s}`, ['GET', 'POST'])
    }
    add(`/api/v2/${r}`, ['*'])
    add(`/internal/${r}/health`, ['GET'])
    // params: 6 per resource: 60
    add(`/api/v1/${r}/{id}`, ['GET', 'PUT', 'DELETE'])
    add(`/api/v1/${r}/{id}/history`, ['GET'])
    add(`/api/v1/${r}/{id}/comments/{cid}`, ['GET'])
    add(`/api/v2/${r}/{id}`, ['*'])
    add(`/api/v1/${r}/{id}/files/{name}.{ext}`, ['GET'])
    add(`/tenants/{tenant}/${r}/{id}`, ['GET'])
    // regex params: 3 per resource: 30
    add(`/api/v1/${r}/by-date/{date:[0-9]{4}-[0-9]{2}-[0-9]{2}}`, ['GET'])
    add(`/api/v1/${r}/{id}/rev/{rev:[0-9]+}`, ['GET'])
    add(`/api/v3/${r}/{id:[0-9a-f]{8}}`, ['GET'])
    // catch-alls: 2 per resource: 20
    add(`/static/${r}/*`, ['GET'])
    add(`/api/v1/${r}/{id}/raw/*`, ['GET'])
  }
  add('/*', ['GET'])
  return routes
}

function staticPaths(): string[] {
  const paths: string[] = []
  for (const r of resources) {
    for (const s of ['', '/search', '/export', '/stats']) paths.push(`/api/v1/${r}${s}`)
    paths.push(`/internal/${r}/health`)
  }
  return paths
}

function mixedPaths(): string[] {
  const paths: string[] = []
  for (const r of resources) {
    paths.push(`/api/v1/${r}`, `/api/v1/${r}/stats`) // static
    paths.push(`/api/v1/${r}/12345`, `/api/v1/${r}/42/comments/7`, `/api/v1/${r}/42/files/report.tar.gz`) // params
    paths.push(`/tenants/acme/${r}/99`)
    paths.push(`/api/v1/${r}/by-date/2024-06-01`, `/api/v3/${r}/deadbeef`, `/api/v1/${r}/42/rev/3`) // regex
    paths.push(`/static/${r}/css/site.css`, `/api/v1/${r}/42/raw/a/b/c`, `/unknown/${r}/x`) // catch-all
  }
  return paths
}

function measure(name: string, paths: string[], fn: (path: string) => number): number {
  const rounds = 4000
  let sink = 0
  for (let i = 0; i < 200; i++) for (const p of paths) sink += fn(p) // warm up
  const start = process.hrtime.bigint()
  for (let i = 0; i < rounds; i++) for (const p of paths) sink += fn(p)
  const ns = Number(process.hrtime.bigint() - start)
  const perSec = (rounds * paths.length * 1e9) / ns
  console.log(`${name.padEnd(34)} ${(perSec / 1e6).toFixed(2).padStart(7)} M matches/s  ${(ns / (rounds * paths.length)).toFixed(0).padStart(5)} ns/match  (checksum ${sink})`)
  return perSec
}

const routes = routeTable()
const router = compileRouter(routes)
const statics = staticPaths()
const mixed = mixedPaths()

for (const p of [...statics, ...mixed]) {
  if (router.match('GET', p).kind !== 'found') throw new Error(`bench table does not route ${p}`)
}

const baseline = new Map(statics.map((p, i) => [p, i]))
console.log(`${routes.length} routes; ${statics.length} static paths; ${mixed.length} mixed paths; node ${process.version}`)
const base = measure('Map.get (static paths, baseline)', statics, (p) => baseline.get(p) ?? -1)
const stat = measure('router.match (static paths)', statics, (p) => {
  const m = router.match('GET', p)
  return m.kind === 'found' ? m.value : -1
})
const mix = measure('router.match (mixed paths)', mixed, (p) => {
  const m = router.match('GET', p)
  return m.kind === 'found' ? m.value : -1
})
console.log(`ratio Map / router, static paths: ${(base / stat).toFixed(1)}x`)
console.log(`ratio Map / router, mixed paths:  ${(base / mix).toFixed(1)}x`)
