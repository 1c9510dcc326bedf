import { describe, expect, it } from 'vitest'
import { ProposalDroppedError } from '../../../src/cluster/raft/core/errors.js'
import type { Message } from '../../../src/cluster/raft/core/messages.js'
import type { Raft } from '../../../src/cluster/raft/core/raft.js'
import { bytes, drain, Net, newRaft, text } from './harness.js'

const three = ['1', '2', '3']
const ofType = <T extends Message['type']>(msgs: Message[], t: T): (Message & { type: T })[] =>
  msgs.filter((m): m is Message & { type: T } => m.type === t)

function cluster(ids: string[], opts: Parameters<typeof newRaft>[2] = {}, voters = ids): Net {
  return new Net(ids.map((id) => newRaft(id, voters, opts)))
}

/** Ticks every node once and lets messages settle, `n` times. */
function tickAll(net: Net, n: number, only?: string[]): void {
  for (let i = 0; i < n; i++) {
    for (const [id, r] of net.nodes) if (!only || only.includes(id)) r.tick()
    net.stabilize()
  }
}

describe('pre-vote (§9.6)', () => {
  it('a partitioned node keeps its term, and rejoining does not depose the leader', () => {
    const net = cluster(three, { preVote: true, checkQuorum: true })
    net.campaign('1')
    expect(net.get('1').role).toBe('leader')
    net.isolate('3')
    tickAll(net, 100)
    expect(net.get('3').role).toBe('preCandidate')
    expect(net.get('3').term).toBe(1)
    net.heal()
    tickAll(net, 5)
    expect(net.get('1').role).toBe('leader')
    expect(net.get('1').term).toBe(1)
    expect(net.get('3').lead).toBe('1')
  })

  it('without pre-vote the same partition inflates the term and forces a new election', () => {
    const net = cluster(three, { preVote: false, checkQuorum: false })
    net.campaign('1')
    net.isolate('3')
    tickAll(net, 100)
    expect(net.get('3').term).toBeGreaterThan(1)
    net.heal()
    tickAll(net, 30)
    expect(net.get('1').term).toBeGreaterThan(1)
  })

  it('a pre-candidate that wins its pre-vote then runs a real election and leads', () => {
    const net = cluster(three, { preVote: true })
    net.campaign('2')
    expect(net.get('2').role).toBe('leader')
    expect(net.get('2').term).toBe(1)
    expect(net.delivered.some((m) => m.type === 'preVote')).toBe(true)
  })
})

describe('check-quorum and leader lease', () => {
  it('a leader that loses contact with a quorum steps down after an election timeout', () => {
    const net = cluster(three, { checkQuorum: true, preVote: true })
    net.campaign('1')
    net.isolate('1')
    tickAll(net, 10, ['1'])
    expect(net.get('1').role).toBe('leader')
    tickAll(net, 11, ['1'])
    expect(net.get('1').role).toBe('follower')
  })

  it('a leader that hears from a quorum keeps leading', () => {
    const net = cluster(three, { checkQuorum: true, preVote: true })
    net.campaign('1')
    net.isolate('3')
    tickAll(net, 50, ['1', '2'])
    expect(net.get('1').role).toBe('leader')
  })

  it('a follower with a live leader ignores a higher-term vote request', () => {
    const net = cluster(three, { checkQuorum: true })
    net.campaign('1')
    const f = net.get('2')
    f.step({ type: 'vote', from: '3', to: '2', term: 5, index: 100, logTerm: 5, force: false })
    expect(f.term).toBe(1)
    expect(drain(f)).toEqual([])
  })

  it('once the lease expires the same request is considered', () => {
    const net = cluster(three, { checkQuorum: true })
    net.campaign('1')
    const f = net.get('2')
    net.isolate('2')
    for (let i = 0; i < 10; i++) f.tick()
    drain(f)
    f.step({ type: 'vote', from: '3', to: '2', term: 5, index: 100, logTerm: 5, force: false })
    expect(f.term).toBe(5)
    expect(ofType(drain(f), 'voteResp')[0]?.reject).toBe(false)
  })
})

describe('ReadIndex (§6.4)', () => {
  it('the leader grants a read at its commit index only after a heartbeat quorum', () => {
    const net = cluster(three)
    net.campaign('1')
    net.propose('1', 'x')
    const l = net.get('1')
    l.readIndex('r1')
    expect(drain(l).filter((m) => m.type === 'heartbeat').every((m) => m.type === 'heartbeat' && m.context === 'r1')).toBe(true)
    net.stabilize()
    // The heartbeats above were drained without delivery: no quorum yet.
    expect(net.reads.get('1')).toEqual([])
    l.tick()
    net.stabilize()
    expect(net.reads.get('1')).toEqual([{ index: l.log.committed, context: 'r1' }])
  })

  it('an isolated leader never grants a read', () => {
    const net = cluster(three, { checkQuorum: false })
    net.campaign('1')
    net.isolate('1')
    net.get('1').readIndex('r1')
    tickAll(net, 5, ['1'])
    expect(net.reads.get('1')).toEqual([])
  })

  it('a follower read is forwarded to the leader and answered with the leader commit index', () => {
    const net = cluster(three)
    net.campaign('1')
    net.propose('1', 'x')
    net.get('3').readIndex('f1')
    net.stabilize()
    expect(net.reads.get('3')).toEqual([{ index: net.get('1').log.committed, context: 'f1' }])
  })

  it('a new leader defers reads until it has committed an entry of its term', () => {
    const net = cluster(three)
    net.campaign('1')
    net.ignore('appResp')
    net.campaign('2')
    const l = net.get('2')
    expect(l.role).toBe('leader')
    l.readIndex('early')
    net.stabilize()
    expect(net.reads.get('2')).toEqual([])
    net.heal()
    tickAll(net, 2)
    expect(net.reads.get('2')?.map((r) => r.context)).toEqual(['early'])
  })

  it('with no leader known a read is refused at once', () => {
    const r = newRaft('1', three)
    expect(() => r.readIndex('x')).toThrow(ProposalDroppedError)
  })
})

describe('snapshots and InstallSnapshot', () => {
  function leaderWithCompactedLog(trailing: number): { net: Net; leader: Raft } {
    const net = cluster(three, { snapshotChunkBytes: 8 })
    net.campaign('1')
    net.isolate('3')
    for (let i = 0; i < 20; i++) net.propose('1', `v${i}`)
    const leader = net.get('1')
    const applied = leader.log.applied
    leader.compact(applied, bytes(`state-at-${applied}-with-padding`), trailing)
    return { net, leader }
  }

  it('compaction keeps the trailing entries before the snapshot index', () => {
    const { leader } = leaderWithCompactedLog(5)
    expect(leader.log.firstIndex()).toBe(leader.log.applied - 5 + 1)
    expect(leader.log.snapshot?.meta.index).toBe(leader.log.applied)
  })

  it('a follower behind the compacted log receives the snapshot in chunks and restores it', () => {
    const { net, leader } = leaderWithCompactedLog(0)
    net.heal()
    tickAll(net, 3)
    const chunks = net.delivered.filter((m) => m.type === 'snap')
    expect(chunks.length).toBeGreaterThan(2)
    const installed = net.installed.get('3') ?? []
    expect(installed).toHaveLength(1)
    expect(text(installed[0]?.data ?? new Uint8Array())).toBe(`state-at-${leader.log.snapshot?.meta.index}-with-padding`)
    expect(net.get('3').log.committed).toBe(leader.log.committed)
    net.propose('1', 'after')
    expect(net.applied.get('3')?.at(-1)).toBe('after')
  })

  it('a follower within the trailing entries catches up without a snapshot', () => {
    const net = cluster(three)
    net.campaign('1')
    net.isolate('3')
    for (let i = 0; i < 3; i++) net.propose('1', `v${i}`)
    const leader = net.get('1')
    leader.compact(leader.log.applied, bytes('s'), 10)
    net.heal()
    tickAll(net, 3)
    expect(net.delivered.some((m) => m.type === 'snap')).toBe(false)
    expect(net.applied.get('3')).toEqual(['v0', 'v1', 'v2'])
  })

  it('a lost chunk is resent from the acknowledged offset', () => {
    const { net, leader } = leaderWithCompactedLog(0)
    net.heal()
    net.ignore('snapResp')
    tickAll(net, 2)
    net.heal()
    tickAll(net, 25)
    expect(net.get('3').log.committed).toBe(leader.log.committed)
    expect(net.installed.get('3')).toHaveLength(1)
  })

  it('a follower takes its membership from an installed snapshot', () => {
    const net = cluster(three)
    net.campaign('1')
    net.isolate('3')
    const leader = net.get('1')
    leader.proposeConfChange({ type: 'addLearner', node: '4' })
    net.stabilize()
    net.propose('1', 'x')
    leader.compact(leader.log.applied, bytes('s'), 0)
    expect(net.get('3').members.learners).toEqual([])
    net.heal()
    tickAll(net, 3)
    expect(net.installed.get('3')).toHaveLength(1)
    expect(net.get('3').members).toEqual({ voters: three, learners: ['4'] })
  })

  it('refuses to snapshot beyond the applied index', () => {
    const r = newRaft('1', ['1'])
    r.campaign()
    expect(() => r.compact(5, bytes('x'), 0)).toThrow(/beyond applied/)
  })
})

describe('membership changes (§4.1, single server)', () => {
  it('a learner receives the log but does not count toward commit', () => {
    const net = new Net([...three, '4'].map((id) => newRaft(id, three, { learners: ['4'] })))
    net.campaign('1')
    net.propose('1', 'a')
    expect(net.applied.get('4')).toEqual(['a'])
    net.isolate('2')
    net.isolate('3')
    net.propose('1', 'b')
    expect(net.get('1').log.committed).toBe(2)
    expect(net.get('4').log.lastIndex()).toBe(3)
  })

  it('a learner never campaigns', () => {
    const net = new Net([...three, '4'].map((id) => newRaft(id, three, { learners: ['4'] })))
    const l = net.get('4')
    for (let i = 0; i < 100; i++) l.tick()
    expect(l.role).toBe('follower')
    expect(l.term).toBe(0)
  })

  it('adds a learner, promotes it to voter, and it then counts toward commit', () => {
    const ids = [...three, '4']
    // Node 4 starts outside the membership (it knows the founding members, as a bootstrapped log would tell it).
    const net = new Net(ids.map((id) => newRaft(id, three)))
    net.campaign('1')
    const l = net.get('1')
    l.proposeConfChange({ type: 'addLearner', node: '4' })
    net.stabilize()
    expect(l.members).toEqual({ voters: three, learners: ['4'] })
    l.proposeConfChange({ type: 'addVoter', node: '4' })
    net.stabilize()
    expect(net.get('4').members).toEqual({ voters: ['1', '2', '3', '4'], learners: [] })
    net.isolate('3')
    net.propose('1', 'needs three of four')
    net.isolate('4')
    net.propose('1', 'only two of four')
    expect(net.applied.get('1')).toEqual(['needs three of four'])
  })

  it('refuses a second change while one is uncommitted', () => {
    const net = cluster(three)
    net.campaign('1')
    const l = net.get('1')
    net.isolate('1')
    l.proposeConfChange({ type: 'addLearner', node: '4' })
    expect(() => l.proposeConfChange({ type: 'addLearner', node: '5' })).toThrow(/already pending/)
  })

  it('refuses a change until the leader has committed an entry of its own term', () => {
    const net = cluster(three)
    net.campaign('1')
    net.ignore('appResp')
    net.campaign('2')
    expect(() => net.get('2').proposeConfChange({ type: 'addLearner', node: '4' })).toThrow(/own term|its term/)
  })

  it('refuses removing the last voter', () => {
    const r = newRaft('1', ['1'])
    r.campaign()
    drain(r)
    expect(() => r.proposeConfChange({ type: 'remove', node: '1' })).toThrow(ProposalDroppedError)
  })

  it('a removed leader steps down once its removal commits and the rest elect a new leader', () => {
    const net = cluster(three, { preVote: true, checkQuorum: true })
    net.campaign('1')
    net.get('1').proposeConfChange({ type: 'remove', node: '1' })
    net.stabilize()
    expect(net.get('1').role).toBe('follower')
    expect(net.get('2').members.voters).toEqual(['2', '3'])
    tickAll(net, 40, ['2', '3'])
    const leaders = ['2', '3'].filter((id) => net.get(id).role === 'leader')
    expect(leaders).toHaveLength(1)
    net.propose(leaders[0] ?? '', 'after')
    expect(net.applied.get('2')?.at(-1)).toBe('after')
  })

  it('a change appended but truncated by a new leader is undone on that follower', () => {
    const net = cluster(three)
    net.campaign('1')
    net.isolate('1')
    net.get('1').proposeConfChange({ type: 'addLearner', node: '9' })
    drain(net.get('1'))
    expect(net.get('1').members.learners).toEqual(['9'])
    net.campaign('2')
    net.heal()
    tickAll(net, 2)
    expect(net.get('1').role).toBe('follower')
    expect(net.get('1').members.learners).toEqual([])
  })
})

describe('leader transfer (§3.10)', () => {
  it('hands leadership to an up-to-date follower at once', () => {
    const net = cluster(three, { preVote: true, checkQuorum: true })
    net.campaign('1')
    net.get('1').transferLeader('3')
    net.stabilize()
    expect(net.get('3').role).toBe('leader')
    expect(net.get('3').term).toBe(2)
    expect(net.get('1').role).toBe('follower')
  })

  it('brings a lagging target up to date before sending TimeoutNow', () => {
    const net = cluster(three)
    net.campaign('1')
    net.isolate('3')
    net.propose('1', 'a')
    net.heal()
    net.get('1').transferLeader('3')
    net.stabilize()
    expect(net.get('3').role).toBe('leader')
    expect(net.get('3').log.lastIndex()).toBe(3)
  })

  it('refuses proposals while transferring, and gives up after an election timeout', () => {
    const net = cluster(three)
    net.campaign('1')
    net.isolate('3')
    const l = net.get('1')
    l.transferLeader('3')
    expect(() => l.propose(bytes('x'))).toThrow(/transfer/)
    tickAll(net, 10, ['1', '2'])
    expect(l.role).toBe('leader')
    expect(() => l.propose(bytes('x'))).not.toThrow()
  })
})

describe('flow control', () => {
  it('in replicate state the leader pipelines up to the inflight window without acknowledgements', () => {
    const net = cluster(three, { maxInflightMsgs: 3, maxMsgEntries: 1 })
    net.campaign('1')
    const l = net.get('1')
    net.isolate('2')
    net.isolate('3')
    drain(l)
    for (let i = 0; i < 10; i++) l.propose(bytes(`p${i}`))
    const apps = ofType(drain(l), 'app').filter((m) => m.to === '2')
    expect(apps).toHaveLength(3)
    expect(apps.map((m) => m.entries.length)).toEqual([1, 1, 1])
  })

  it('in probe state the leader sends one append at a time', () => {
    const net = cluster(three)
    net.campaign('1')
    const l = net.get('1')
    net.isolate('1')
    l.propose(bytes('p0'))
    l.propose(bytes('p1'))
    drain(l)
    // Follower 2 rejects the append that followed index 2: the leader falls back to probing it.
    l.step({ type: 'appResp', from: '2', to: '1', term: 1, index: 2, reject: true, rejectHint: 1, logTerm: 1 })
    for (let i = 0; i < 5; i++) l.propose(bytes(`p${i}`))
    const to2 = ofType(drain(l), 'app').filter((m) => m.to === '2')
    expect(to2).toHaveLength(1)
    expect(to2[0]?.index).toBe(1)
    expect(l.status().progress?.get('2')?.state).toBe('probe')
  })

  it('batches entries up to the per-message limit', () => {
    const net = cluster(three, { maxMsgEntries: 4 })
    net.campaign('1')
    net.isolate('3')
    for (let i = 0; i < 10; i++) net.propose('1', `p${i}`)
    net.heal()
    tickAll(net, 3)
    const sizes = net.delivered.filter((m) => m.type === 'app' && m.to === '3').map((m) => (m.type === 'app' ? m.entries.length : 0))
    expect(Math.max(...sizes)).toBe(4)
    expect(net.applied.get('3')).toHaveLength(10)
  })
})

describe('the Ready contract', () => {
  it('asks for an fsync when entries, term or vote change, not for a commit-only change', () => {
    const r = newRaft('2', three)
    r.step({ type: 'app', from: '1', to: '2', term: 1, index: 0, logTerm: 0, entries: [{ index: 1, term: 1, type: 'normal', data: bytes('a') }], commit: 0 })
    const first = r.ready()
    expect(first.mustSync).toBe(true)
    r.advance(first)
    r.step({ type: 'heartbeat', from: '1', to: '2', term: 1, commit: 1, context: undefined })
    const second = r.ready()
    expect(second.hardState?.commit).toBe(1)
    expect(second.mustSync).toBe(false)
  })

  it('refuses a second Ready before advance', () => {
    const r = newRaft('1', ['1'])
    r.campaign()
    r.ready()
    expect(() => r.ready()).toThrow(/advance/)
  })

  it('a follower without a leader refuses proposals; with one it forwards them', () => {
    const net = cluster(three)
    expect(() => net.get('2').propose(bytes('x'))).toThrow(ProposalDroppedError)
    net.campaign('1')
    net.propose('2', 'forwarded')
    expect(net.applied.get('1')).toEqual(['forwarded'])
    expect(net.applied.get('2')).toEqual(['forwarded'])
  })
})
