/** What the orchestration needs of the router (the runtime driver contract is in release-driver.ts). */
export interface RouterControl {
  putRoutes(table: import('../router/route-table.ts').RouteTable): Promise<void>;
  /** In-flight requests per backend (instance) id. */
  inflight(): Promise<Record<string, number>>;
}
