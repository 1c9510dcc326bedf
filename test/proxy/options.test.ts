import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/index.js'
import { standalone } from '../../src/cluster/index.js'

describe('gateway options a user can get wrong', () => {
  it.each([
    [['10.0.0.1', 'proxy.example'], 'proxy.trustedProxies: "proxy.example" is not an IP address or CIDR'],
    [['10.0.0.0/33'], 'proxy.trustedProxies: "10.0.0.0/33" has an invalid prefix length'],
    [['::1/x'], 'proxy.trustedProxies: "::1/x" has an invalid prefix length'],
  ])('refuses trustedProxies %j, naming the entry', async (trustedProxies, message) => {
    await expect(createGateway({ proxy: { trustedProxies } })).rejects.toThrow(message)
  })

  it.each([0, -1, 1.5])('refuses snapshotEvery %s', (snapshotEvery) => {
    expect(() => standalone({ snapshotEvery })).toThrow(`snapshotEvery must be a positive integer, not ${snapshotEvery}`)
  })
})
