// Runs the Refersion sandbox (no latency) in its own process for the benchmark's CPU comparison.
import { startSandbox } from '../sandbox'

void startSandbox({ seed: 1 }).then((sandbox) => {
  process.send?.({ apiBaseUrl: sandbox.apiBaseUrl })
  process.on('disconnect', () => void sandbox.close().then(() => process.exit(0)))
})
