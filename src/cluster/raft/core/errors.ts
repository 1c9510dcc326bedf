/**
 * A proposal, read or transfer the core could not accept (no leader, leader transfer in progress,
 * a membership change already pending, ...). Nothing was changed.
 * @public
 */
export class ProposalDroppedError extends Error {
  /** Always `'ProposalDroppedError'`. */
  override readonly name = 'ProposalDroppedError'
}
