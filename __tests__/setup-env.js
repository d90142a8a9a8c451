// Deterministic environment for every test file: UTC dates, no inherited sandbox URLs or cache switch.
process.env.TZ = 'UTC'
delete process.env.REFERSION_BASE_URL
delete process.env.REFERSION_TRACKING_URL
delete process.env.REFERSION_CACHE
