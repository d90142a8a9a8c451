import { Command } from 'commander'
import { addSandboxFlags, sandboxOptionsFrom } from '../../tools/cli/sandbox-options'

function parse(args: string[]): Record<string, unknown> {
  const command = addSandboxFlags(new Command('sandbox').exitOverride())
  command.parse(args, { from: 'user' })
  return command.opts()
}

describe('--search-merchant-id', () => {
  it('is off by default and turned on by the flag or SANDBOX_SEARCH_MERCHANT_ID=1', () => {
    expect(sandboxOptionsFrom(parse([]), {}).searchMerchantId).toBeUndefined()
    expect(sandboxOptionsFrom(parse(['--search-merchant-id']), {}).searchMerchantId).toBe(true)
    expect(sandboxOptionsFrom(parse([]), { SANDBOX_SEARCH_MERCHANT_ID: '1' }).searchMerchantId).toBe(true)
  })

  it('keeps the value flags working alongside it', () => {
    const options = sandboxOptionsFrom(parse(['--search-merchant-id', '--latency', '5', '--seed', '9']), {})
    expect(options).toEqual({ latencyMs: 5, seed: 9, searchMerchantId: true })
  })
})

describe('--order-processing-attempts', () => {
  it('is off by default and set by the flag or SANDBOX_ORDER_PROCESSING_ATTEMPTS, the flag winning', () => {
    expect(sandboxOptionsFrom(parse([]), {}).orderProcessingAttempts).toBeUndefined()
    expect(sandboxOptionsFrom(parse(['--order-processing-attempts', '2']), {}).orderProcessingAttempts).toBe(2)
    expect(sandboxOptionsFrom(parse([]), { SANDBOX_ORDER_PROCESSING_ATTEMPTS: '1' }).orderProcessingAttempts).toBe(1)
    const both = sandboxOptionsFrom(parse(['--order-processing-attempts', '3']), {
      SANDBOX_ORDER_PROCESSING_ATTEMPTS: '1'
    })
    expect(both.orderProcessingAttempts).toBe(3)
  })

  it('names the flag when its value is bad', () => {
    expect(() => sandboxOptionsFrom(parse(['--order-processing-attempts', 'some']), {})).toThrow(
      /--order-processing-attempts must be an integer >= 0/
    )
  })
})
