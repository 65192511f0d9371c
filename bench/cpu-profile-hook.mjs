// Loaded into the stack's node processes by `npm run bench -- outgoing --profile DIR` (through
// NODE_OPTIONS=--import, which cannot carry --cpu-prof): the first SIGUSR2 starts a CPU profile,
// the second writes it to $BENCH_CPU_PROFILE_DIR/<pid>.cpuprofile, so only the burst is profiled.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 1000 }, () => session.post('Profiler.start')),
      );
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
