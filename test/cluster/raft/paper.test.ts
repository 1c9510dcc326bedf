import { describe, expect, it } from 'vitest'
import type { AppendMessage, Message } from '../../../src/cluster/raft/core/messages.js'
import { seededRandom } from '../../../src/cluster/raft/core/prng.js'
import type { Raft } from '../../../src/cluster/raft/core/raft.js'
import type { Entry } from '../../../src/cluster/raft/core/types.js'
import { bytes, drain, ent, Net, newRaft, tickElection } from './harness.js'

/**
 * One test per claim of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable
 * Consensus Algorithm"), following the checklist of etcd-io/raft's raft_paper_test.go.
 */

const three = ['1', '2', '3']
const app = (from: string, to: string, term: number, index: number, logTerm: number, entries: Entry[], commit: number): AppendMessage => ({
  type: 'app', from, to, term, index, logTerm, entries, commit,
})
const ofType = <T extends Message['type']>(msgs: Message[], t: T): (Message & { type: T })[] =>
  msgs.filter((m): m is Message & { type: T } => m.type === t)

/** Makes `r` leader of `peers` by granting votes, then has every follower acknowledge the no-op. */
function makeLeader(r: Raft, peers: string[]): void {
  r.campaign()
  for (const p of peers) if (p !== r.id) r.step({ type: 'voteResp', from: p, to: r.id, term: r.term, reject: false })
  expect(r.role).toBe('leader')
  drain(r)
  for (const p of peers) if (p !== r.id) r.step({ type: 'appResp', from: p, to: r.id, term: r.term, index: r.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 })
  drain(r)
}

describe('§5.1 terms', () => {
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    it(`a ${role} that sees a higher term adopts it and becomes a follower`, () => {
      const r = newRaft('1', three)
      if (role === 'candidate') r.campaign()
      if (role === 'leader') makeLeader(r, three)
      r.step(app('2', '1', 5, 0, 0, [], 0))
      expect(r.term).toBe(5)
      expect(r.role).toBe('follower')
      expect(r.lead).toBe('2')
    })
  }

  it('ignores a message from a stale term', () => {
    const r = newRaft('1', three, { term: 2 })
    r.step(app('2', '1', 1, 0, 0, [ent(1, 1, 'stale')], 0))
    expect(r.log.lastIndex()).toBe(0)
    expect(drain(r)).toEqual([])
  })

  it('starts as a follower', () => {
    expect(newRaft('1', three).role).toBe('follower')
  })
})

describe('§5.2 leader election', () => {
  it('the leader sends heartbeats every heartbeat tick', () => {
    const r = newRaft('1', three, { heartbeatTick: 1 })
    makeLeader(r, three)
    r.tick()
    const beats = ofType(drain(r), 'heartbeat')
    expect(beats.map((m) => m.to).sort()).toEqual(['2', '3'])
    expect(beats.every((m) => m.term === r.term && m.commit === 1)).toBe(true)
  })

  it('a follower whose election timeout elapses becomes a candidate, votes for itself and requests votes', () => {
    const r = newRaft('1', three)
    tickElection(r)
    expect(r.role).toBe('candidate')
    expect(r.term).toBe(1)
    expect(r.vote).toBe('1')
    const votes = ofType(drain(r), 'vote')
    expect(votes.map((m) => m.to).sort()).toEqual(['2', '3'])
    expect(votes.every((m) => m.term === 1 && m.index === 0 && m.logTerm === 0)).toBe(true)
  })

  it('a candidate whose election times out starts a new election in a new term', () => {
    const r = newRaft('1', three)
    tickElection(r)
    drain(r)
    tickElection(r)
    expect(r.role).toBe('candidate')
    expect(r.term).toBe(2)
    expect(ofType(drain(r), 'vote').every((m) => m.term === 2)).toBe(true)
  })

  const rounds: [number, Record<string, boolean>, string][] = [
    [1, {}, 'leader'],
    [3, { '2': true, '3': true }, 'leader'],
    [3, { '2': true }, 'leader'],
    [5, { '2': true, '3': true, '4': true, '5': true }, 'leader'],
    [5, { '2': true, '3': true }, 'leader'],
    [3, {}, 'candidate'],
    [5, { '2': true }, 'candidate'],
    [5, { '2': false, '3': false, '4': true }, 'candidate'],
    [3, { '2': false, '3': false }, 'follower'],
    [5, { '2': false, '3': false, '4': false }, 'follower'],
  ]
  for (const [size, votes, want] of rounds) {
    it(`in one round with ${size} voters and votes ${JSON.stringify(votes)} the candidate ends as ${want}`, () => {
      const peers = Array.from({ length: size }, (_, i) => String(i + 1))
      const r = newRaft('1', peers)
      r.campaign()
      for (const [from, granted] of Object.entries(votes)) r.step({ type: 'voteResp', from, to: '1', term: 1, reject: !granted })
      expect(r.role).toBe(want)
    })
  }

  const voteCases: [string | undefined, string, boolean][] = [
    [undefined, '2', true],
    [undefined, '3', true],
    ['2', '2', true],
    ['3', '3', true],
    ['2', '3', false],
    ['3', '2', false],
  ]
  for (const [voted, candidate, granted] of voteCases) {
    it(`a follower that voted for ${voted ?? 'nobody'} ${granted ? 'grants' : 'refuses'} ${candidate} (one vote per term, first come first served)`, () => {
      const r = newRaft('1', three, { term: 1, vote: voted })
      r.step({ type: 'vote', from: candidate, to: '1', term: 1, index: 0, logTerm: 0, force: false })
      const [resp] = ofType(drain(r), 'voteResp')
      expect(resp).toMatchObject({ to: candidate, term: 1, reject: !granted })
      expect(r.vote).toBe(granted ? candidate : voted)
    })
  }

  for (const term of [1, 2]) {
    it(`a candidate receiving AppendEntries from a leader of term ${term} (>= its own) falls back to follower`, () => {
      const r = newRaft('1', three)
      r.campaign()
      expect(r.term).toBe(1)
      r.step(app('2', '1', term, 0, 0, [], 0))
      expect(r.role).toBe('follower')
      expect(r.term).toBe(term)
      expect(r.lead).toBe('2')
    })
  }

  for (const role of ['follower', 'candidate'] as const) {
    it(`a ${role}'s election timeout is randomized within [electionTick, 2·electionTick)`, () => {
      const seen = new Set<number>()
      for (let seed = 0; seed < 200; seed++) {
        const r = newRaft('1', three, { random: seededRandom(seed) })
        if (role === 'candidate') r.campaign()
        let ticks = 0
        const term = r.term
        while (r.term === term && r.role !== 'candidate') {
          r.tick()
          ticks++
        }
        if (role === 'candidate') {
          while (r.term === term) {
            r.tick()
            ticks++
          }
        }
        expect(ticks).toBeGreaterThanOrEqual(10)
        expect(ticks).toBeLessThan(20)
        seen.add(ticks)
      }
      expect(seen.size).toBe(10)
    })
  }

  it('randomized timeouts make simultaneous elections rare among five nodes', () => {
    let conflicts = 0
    const rounds = 1000
    for (let round = 0; round < rounds; round++) {
      const timeouts = ['1', '2', '3', '4', '5'].map((id, i) => newRaft(id, ['1', '2', '3', '4', '5'], { random: seededRandom(round * 7 + i) }).electionTimeout)
      const min = Math.min(...timeouts)
      if (timeouts.filter((t) => t === min).length > 1) conflicts++
    }
    expect(conflicts / rounds).toBeLessThan(0.3)
  })
})

describe('§5.3 log replication', () => {
  it('the leader appends a proposal and sends it to every follower with the preceding index and term', () => {
    const r = newRaft('1', three)
    makeLeader(r, three)
    r.propose(bytes('some data'))
    const rd = r.ready()
    expect(rd.entries.map((e) => [e.index, e.term])).toEqual([[2, 1]])
    const apps = ofType(rd.messages, 'app')
    expect(apps.map((m) => m.to).sort()).toEqual(['2', '3'])
    for (const m of apps) expect(m).toMatchObject({ index: 1, logTerm: 1, commit: 1, entries: [{ index: 2, term: 1 }] })
  })

  it('the leader commits an entry once a majority stores it, and tells followers the new commit index', () => {
    const r = newRaft('1', three)
    makeLeader(r, three)
    r.propose(bytes('some data'))
    drain(r)
    r.step({ type: 'appResp', from: '2', to: '1', term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 })
    expect(r.log.committed).toBe(2)
    const rd = r.ready()
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2])
    expect(ofType(rd.messages, 'app').every((m) => m.commit === 2)).toBe(true)
  })

  const acks: [number, string[], boolean][] = [
    [1, [], true],
    [3, [], false],
    [3, ['2'], true],
    [3, ['2', '3'], true],
    [5, [], false],
    [5, ['2'], false],
    [5, ['2', '3'], true],
    [5, ['2', '3', '4', '5'], true],
  ]
  for (const [size, ackers, committed] of acks) {
    it(`with ${size} voters and acks from [${ackers.join(',')}] the entry is ${committed ? '' : 'not '}committed`, () => {
      const peers = Array.from({ length: size }, (_, i) => String(i + 1))
      const r = newRaft('1', peers)
      makeLeader(r, peers)
      r.propose(bytes('x'))
      drain(r)
      for (const a of ackers) r.step({ type: 'appResp', from: a, to: '1', term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 })
      expect(r.log.committed >= 2).toBe(committed)
    })
  }

  const priorLogs: Entry[][] = [[], [ent(1, 2)], [ent(1, 1), ent(2, 2)], [ent(1, 1)]]
  for (const prior of priorLogs) {
    it(`committing an entry of the current term commits every preceding entry (${prior.length} earlier entries)`, () => {
      const peers = three
      const nodes = peers.map((id) => newRaft(id, peers, { entries: prior, term: 2 }))
      const net = new Net(nodes)
      net.campaign('1')
      net.propose('1', 'new')
      const leader = net.get('1')
      expect(leader.log.committed).toBe(prior.length + 2)
      expect(net.applied.get('1')).toEqual([...prior.map(() => ''), 'new'])
    })
  }

  it('a follower applies entries once it learns from the leader that they are committed', () => {
    const r = newRaft('2', three)
    r.step(app('1', '2', 1, 0, 0, [ent(1, 1, 'a'), ent(2, 1, 'b')], 1))
    expect(r.log.committed).toBe(1)
    const rd = r.ready()
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1])
    r.advance(rd)
    r.step(app('1', '2', 1, 2, 1, [], 2))
    expect(r.ready().committedEntries.map((e) => e.index)).toEqual([2])
  })

  it('a follower commits no further than the last entry it knows matches the leader', () => {
    // Entries 2 and 3 came from an old leader; the new leader has only confirmed entry 1 so far.
    const r = newRaft('2', three, { entries: [ent(1, 1), ent(2, 1), ent(3, 1)], term: 1 })
    r.step(app('1', '2', 2, 1, 1, [], 3))
    expect(r.log.committed).toBe(1)
  })

  const checks: { prev: [number, number]; reject: boolean; index: number; hint?: number }[] = [
    { prev: [0, 0], reject: false, index: 1 }, // behind our commit: we answer with the commit index
    { prev: [1, 1], reject: false, index: 1 },
    { prev: [2, 2], reject: false, index: 2 },
    { prev: [2, 1], reject: true, index: 2, hint: 1 }, // term mismatch at 2
    { prev: [3, 3], reject: true, index: 3, hint: 2 }, // beyond our log
  ]
  for (const c of checks) {
    it(`a follower ${c.reject ? 'rejects' : 'accepts'} AppendEntries whose preceding entry is ${c.prev[0]}/${c.prev[1]}`, () => {
      const r = newRaft('2', three, { entries: [ent(1, 1), ent(2, 2)], term: 2, commit: 1 })
      r.step(app('1', '2', 2, c.prev[0], c.prev[1], [], 1))
      const [resp] = ofType(drain(r), 'appResp')
      expect(resp).toMatchObject({ reject: c.reject, index: c.index })
      if (c.hint !== undefined) expect(resp?.rejectHint).toBe(c.hint)
    })
  }

  const appends: { prev: [number, number]; ents: Entry[]; want: [number, number][] }[] = [
    { prev: [2, 2], ents: [ent(3, 3)], want: [[1, 1], [2, 2], [3, 3]] },
    { prev: [1, 1], ents: [ent(2, 3), ent(3, 4)], want: [[1, 1], [2, 3], [3, 4]] },
    { prev: [0, 0], ents: [ent(1, 1)], want: [[1, 1], [2, 2]] },
    { prev: [0, 0], ents: [ent(1, 3)], want: [[1, 3]] },
  ]
  for (const a of appends) {
    it(`a follower deletes conflicting entries and appends new ones (prev ${a.prev.join('/')}, +${a.ents.map((e) => `${e.index}/${e.term}`).join(',')})`, () => {
      const r = newRaft('2', three, { entries: [ent(1, 1), ent(2, 2)], term: 2 })
      r.step(app('1', '2', 4, a.prev[0], a.prev[1], a.ents, 0))
      expect(r.log.slice(1, r.log.lastIndex() + 1).map((e) => [e.index, e.term])).toEqual(a.want)
    })
  }

  // Figure 7 of the paper: the leader's log and six possible follower logs.
  const terms = (ts: number[]): Entry[] => ts.map((t, i) => ent(i + 1, t))
  const leaderLog = terms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6])
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  }
  for (const [name, log] of Object.entries(followers)) {
    it(`the leader brings follower (${name}) of Figure 7 to its own log`, () => {
      const lead = newRaft('1', three, { entries: leaderLog, term: 8 })
      const follower = newRaft('2', three, { entries: terms(log), term: 8 })
      const voter = newRaft('3', three, { entries: leaderLog, term: 8 })
      const net = new Net([lead, follower, voter])
      net.campaign('1')
      expect(lead.role).toBe('leader')
      net.propose('1', 'after')
      const shape = (r: Raft): [number, number][] => r.log.slice(1, r.log.lastIndex() + 1).map((e) => [e.index, e.term])
      expect(shape(follower)).toEqual(shape(lead))
    })
  }
})

describe('§5.4 safety', () => {
  it('a candidate requests votes with the index and term of its last entry', () => {
    const r = newRaft('1', three, { entries: [ent(1, 1), ent(2, 2)], term: 2 })
    r.campaign()
    const votes = ofType(drain(r), 'vote')
    expect(votes).toHaveLength(2)
    for (const v of votes) expect(v).toMatchObject({ term: 3, index: 2, logTerm: 2 })
  })

  const voterCases: { log: Entry[]; lastTerm: number; lastIndex: number; granted: boolean }[] = [
    { log: [ent(1, 1)], lastTerm: 1, lastIndex: 1, granted: true },
    { log: [ent(1, 1)], lastTerm: 1, lastIndex: 2, granted: true },
    { log: [ent(1, 1), ent(2, 1)], lastTerm: 1, lastIndex: 1, granted: false },
    { log: [ent(1, 2)], lastTerm: 1, lastIndex: 1, granted: false },
    { log: [ent(1, 2)], lastTerm: 1, lastIndex: 2, granted: false },
    { log: [ent(1, 1), ent(2, 2)], lastTerm: 3, lastIndex: 1, granted: true },
    { log: [ent(1, 2)], lastTerm: 2, lastIndex: 1, granted: true },
  ]
  for (const c of voterCases) {
    it(`a voter with last entry ${c.log.length}/${c.log[c.log.length - 1]?.term} ${c.granted ? 'grants' : 'refuses'} a candidate at ${c.lastIndex}/${c.lastTerm} (election restriction)`, () => {
      const r = newRaft('1', three, { entries: c.log, term: 3 })
      r.step({ type: 'vote', from: '2', to: '1', term: 4, index: c.lastIndex, logTerm: c.lastTerm, force: false })
      const [resp] = ofType(drain(r), 'voteResp')
      expect(resp?.reject).toBe(!c.granted)
    })
  }

  const onlyCurrent: { ack: number; commit: number }[] = [
    { ack: 1, commit: 0 },
    { ack: 2, commit: 0 },
    { ack: 3, commit: 3 },
  ]
  for (const c of onlyCurrent) {
    it(`the leader only commits entries of its own term by counting replicas (ack up to ${c.ack} commits ${c.commit})`, () => {
      const r = newRaft('1', three, { entries: [ent(1, 1), ent(2, 2)], term: 2 })
      r.campaign()
      r.step({ type: 'voteResp', from: '2', to: '1', term: 3, reject: false })
      expect(r.role).toBe('leader')
      expect(r.log.lastIndex()).toBe(3)
      r.step({ type: 'appResp', from: '2', to: '1', term: 3, index: c.ack, reject: false, rejectHint: 0, logTerm: 0 })
      expect(r.log.committed).toBe(c.commit)
    })
  }
})
