/** `a` when it exists in the event, else `b` — the mapping-kit fallback form Segment's validator accepts. */
export function fallback(a: string, b: string | object) {
  return {
    '@if': { exists: { '@path': a }, then: { '@path': a }, else: typeof b === 'string' ? { '@path': b } : b }
  }
}

/** The email of an identify (`traits.email`), else the event's top-level `email`, else `context.traits.email`. */
export const EMAIL_DEFAULT = fallback('$.traits.email', fallback('$.email', '$.context.traits.email'))
