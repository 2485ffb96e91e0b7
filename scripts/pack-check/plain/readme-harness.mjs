// ---- appended by scripts/pack-check.sh: end the README example once it printed its answer ----
{
  const deadline = setTimeout(() => {
    console.error('README example: no answer within 15 s');
    process.exit(1);
  }, 15_000);
  const log = console.log;
  console.log = (...args) => {
    log(...args);
    if (args[0] && args[0].status === 'ok data') {
      log('PLAIN_OK');
      clearTimeout(deadline);
      // Closed here, as the README's "later" line says; the process must then exit by itself.
      void Promise.all([nodeA.close(), nodeB.close(), manager.close()]);
    }
  };
}
