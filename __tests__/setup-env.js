// Deterministic environment for every test file: UTC dates, no inherited sandbox URL.
process.env.TZ = 'UTC'
delete process.env.REFERSION_BASE_URL
delete process.env.REFERSION_TRACKING_URL
