import { describe, expect, it } from 'vitest'
import { applyConfChange } from '../../../src/cluster/raft/core/confchange.js'
import { Inflights } from '../../../src/cluster/raft/core/inflights.js'
import { committedIndex, quorumSize, voteResult } from '../../../src/cluster/raft/core/quorum.js'

describe('quorum maths', () => {
  const sizes: [number, number][] = [
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [6, 4],
    [7, 4],
  ]
  for (const [n, q] of sizes) it(`${n} voters need ${q}`, () => expect(quorumSize(n)).toBe(q))

  const commits: [number[], number][] = [
    [[], 0],
    [[5], 5],
    [[5, 3], 3],
    [[5, 3, 1], 3],
    [[1, 5, 3], 3],
    [[2, 2, 9, 9], 2],
    [[4, 7, 7, 1, 0], 4],
  ]
  for (const [matches, want] of commits) {
    it(`match indexes [${matches.join(',')}] commit up to ${want}`, () => expect(committedIndex(matches)).toBe(want))
  }

  it('an election is won by a majority of grants, lost by a majority of refusals, pending otherwise', () => {
    const voters = ['a', 'b', 'c', 'd', 'e']
    expect(voteResult(voters, new Map([['a', true], ['b', true]]))).toBe('pending')
    expect(voteResult(voters, new Map([['a', true], ['b', true], ['c', true]]))).toBe('won')
    expect(voteResult(voters, new Map([['a', false], ['b', false], ['c', false]]))).toBe('lost')
    expect(voteResult(voters, new Map([['a', true], ['b', false], ['c', true], ['d', false]]))).toBe('pending')
    // Votes from non-voters (learners, removed nodes) do not count.
    expect(voteResult(voters, new Map([['a', true], ['x', true], ['y', true]]))).toBe('pending')
  })
})

describe('membership change maths', () => {
  const base = { voters: ['a', 'b', 'c'], learners: ['d'] }
  it('adds a learner, promotes it, removes members', () => {
    expect(applyConfChange(base, { type: 'addLearner', node: 'e' })).toEqual({ voters: ['a', 'b', 'c'], learners: ['d', 'e'] })
    expect(applyConfChange(base, { type: 'addVoter', node: 'd' })).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] })
    expect(applyConfChange(base, { type: 'remove', node: 'b' })).toEqual({ voters: ['a', 'c'], learners: ['d'] })
    expect(applyConfChange(base, { type: 'remove', node: 'd' })).toEqual({ voters: ['a', 'b', 'c'], learners: [] })
  })

  it('refuses demoting a voter, removing a stranger, and removing the last voter', () => {
    expect(applyConfChange(base, { type: 'addLearner', node: 'a' })).toBeInstanceOf(Error)
    expect(applyConfChange(base, { type: 'remove', node: 'z' })).toBeInstanceOf(Error)
    expect(applyConfChange({ voters: ['a'], learners: [] }, { type: 'remove', node: 'a' })).toBeInstanceOf(Error)
  })
})

describe('inflights', () => {
  it('fills by count or bytes and frees acknowledged messages in order', () => {
    const f = new Inflights(3, 100)
    f.add(5, 10)
    f.add(8, 10)
    expect(f.full()).toBe(false)
    f.add(9, 10)
    expect(f.full()).toBe(true)
    f.freeLE(8)
    expect(f.count()).toBe(1)
    expect(f.full()).toBe(false)
    f.add(20, 95)
    expect(f.full()).toBe(true)
    f.freeFirstOne()
    expect(f.count()).toBe(1)
  })
})
