// Public entry point of the corolistener package (the library VMmanager's node agent imports).
// Each module re-exports its public surface here as it lands.

// engine
export * from './engine';
