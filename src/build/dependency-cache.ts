/**
 * The seam for the dependency cache (issue 13 part 5, not built yet): a builder asks for installed
 * dependencies by key before it installs, and offers what it installed after. The key names
 * everything the installed files depend on, so a hit can be used without running the package
 * manager. Entries are written by the platform and handed to builds read-only.
 */
export interface CacheKey {
  /** The department: no department reads another's entries. */
  departmentId: string;
  builder: string;
  /** SHA-256 of the lockfile (or requirements), with the install options that change the result. */
  inputsSha256: string;
  /** e.g. `node 20.19.2 npm 11.1.0` */
  runtimeVersion: string;
}

export interface DependencyCache {
  /**
   * Puts a cached install into `dest` (e.g. `<app>/node_modules`); false on a miss. `link`: new
   * folders, files hard-linked to the entry's (only for a build that runs as another user, who
   * cannot write the entry's files and so can only replace them in its own folders).
   */
  restore(key: CacheKey, dest: string, how?: 'copy' | 'link'): Promise<boolean>;
  /** Offers a finished install (`src`) to the cache; the cache may keep a copy or not. */
  keep(key: CacheKey, src: string): Promise<void>;
}

/** No cache: every staging installs. */
export const NO_CACHE: DependencyCache = {
  restore: async () => false,
  keep: async () => {},
};
