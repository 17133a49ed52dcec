// The flags every admin command takes (where its credentials come from), in a module of their
// own so command modules can share them without importing each other.
export const ADMIN_FLAGS = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  coordinator: { type: 'string' },
} as const;
