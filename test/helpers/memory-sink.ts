/** Collects text written by the debug exporter (instead of stdout). */
export class MemorySink {
  readonly chunks: string[] = [];
  write(text: string): boolean {
    this.chunks.push(text);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}
