/** An HTTP answer read whole: status, headers, raw text, and the JSON it parses to (undefined if it does not). */
export interface Answer {
  status: number
  headers: Headers
  text: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

export async function read(res: Response): Promise<Answer> {
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: parseJson(text) }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
