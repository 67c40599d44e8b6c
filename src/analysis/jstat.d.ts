// jstat ships no type declarations; distributions.ts gives the parts emp uses their types.
declare module "jstat" {
  const jStat: unknown;
  export default jStat;
}
