// A module route's handler: answers without an upstream.
interface Ctx {
  pathParam(name: string): string
  response(): { status(code: number): { json(data: unknown): void } }
}

export const requestHandler = (ctx: Ctx) => {
  ctx.response().status(200).json({ hello: ctx.pathParam('name') || 'world' })
}
