// The package ships no types. Its Buffer is its own Uint8Array subclass, not
// Node's Buffer.
declare module 'shamirs-secret-sharing' {
  interface SplitOptions {
    shares: number;
    threshold: number;
    random?: (size: number) => Uint8Array;
  }
  function split(secret: Uint8Array | string, options: SplitOptions): Uint8Array[];
  function combine(shares: Uint8Array[] | string[]): Uint8Array;
  const sss: { split: typeof split; combine: typeof combine };
  export { split, combine };
  export default sss;
}
