// Loaded before anything else (see .mocharc.json): quiet logs unless asked for, test mode.
process.env.LOG_SILENT ??= 'true';
process.env.NODE_ENV = 'test';
