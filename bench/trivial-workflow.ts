/** The benchmark's yardstick: a workflow that does nothing but start and complete. */
export async function trivialWorkflow(): Promise<number> {
  return 1;
}
