export * from './events';
export * from './codes';
export * from './errors';
export * from './messages';
export * from './workflow';
