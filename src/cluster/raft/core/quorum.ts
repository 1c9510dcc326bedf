/** Votes needed to win among `voters`: a strict majority. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1
}

/**
 * The highest index stored on a majority of voters, given each voter's match index.
 * With no voters, nothing is committed.
 */
export function committedIndex(matches: number[]): number {
  if (matches.length === 0) return 0
  const sorted = [...matches].sort((a, b) => b - a)
  return sorted[quorumSize(matches.length) - 1] ?? 0
}

/** Outcome of an election given granted/rejected votes among `voters`. */
export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): 'won' | 'lost' | 'pending' {
  let granted = 0
  let rejected = 0
  for (const v of voters) {
    const vote = votes.get(v)
    if (vote === true) granted++
    else if (vote === false) rejected++
  }
  const q = quorumSize(voters.length)
  if (granted >= q) return 'won'
  if (rejected >= q || voters.length === 0) return 'lost'
  return 'pending'
}
