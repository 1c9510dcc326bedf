// DGate's URL shortener on documents: POST /?url=… stores the URL under a short id and answers 201 {id};
// GET /{id} redirects there (307); an unknown id is 404. Ported from DGate's url_shortener_test.ts.
// The route has no service: requestHandler answers every request itself.
import { createHash } from 'dgate/crypto'
import { addDocument, getDocument } from 'dgate/state'
/** @import { ModuleContext } from 'dgate' */

const COLLECTION = 'short_link'

/**
 * @param {ModuleContext} ctx
 * @returns {Promise<void>}
 */
export async function requestHandler(ctx) {
  const req = ctx.request()
  const res = ctx.response()
  if (req.method === 'POST') {
    const url = ctx.query().get('url')
    if (!url) {
      res.status(400).json({ error: 'url is required' })
      return
    }
    // The same URL always gets the same id: the last 8 characters of its SHA-1 in unpadded base64url (as DGate's).
    const id = createHash('sha1').update(url).digest('base64rawurl').slice(-8)
    try {
      // The collection's JSON Schema decides what a valid link is; a refusal names the field and the reason.
      await addDocument({ id, collection: COLLECTION, data: { url } })
    } catch (err) {
      res.status(400).json({ error: /** @type {Error} */ (err).message })
      return
    }
    res.status(201).json({ id })
    return
  }
  const id = ctx.pathParam('id')
  // DGate rejects a missing document; ours resolves null.
  const doc = id ? await getDocument(id, COLLECTION) : null
  if (!doc) {
    res.status(404).json({ error: 'no such link' })
    return
  }
  res.redirect(/** @type {{ url: string }} */ (doc.data).url)
}
