import type { Migration } from './index.js';

// Uploaded media and thumbnails.
export const mediaMigration: Migration = {
  id: 3,
  name: 'media',
  statements: [],
};
