// A module route's handler: answers without an upstream. (Modules run once the module runtime lands; until then
// the route exists and `dgate serve` loads it.)
export const requestHandler = (ctx: any) => {
  ctx.response().status(200).json({ hello: ctx.pathParam('name') ?? 'world' })
}
