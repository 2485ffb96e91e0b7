// The call options live in the one options layer; the router imports them from here.
export { normalizeCallOptions, type NormalizedCallOptions, type VariantFilter } from '../options/call-options.js';
