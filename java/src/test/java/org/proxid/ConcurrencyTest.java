package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** One Proxid shared by many threads, and what close() promises. */
class ConcurrencyTest {
    private static final int THREADS = 16;
    private static final int CALLS = 10_000;

    private static String conf() {
        return TestSupport.writeConfigUnchecked("concurrency.conf", "");
    }

    @Test
    void sixteenThreadsShareOneProxid() throws Exception {
        List<TestSupport.Account> accounts = TestSupport.localAccounts();
        String unknown = TestSupport.unknownUser();
        try (Proxid proxid = Proxid.open(conf())) {
            // What every call must return, taken once up front.
            List<Identity> expected = new ArrayList<>();
            for (TestSupport.Account a : accounts) {
                expected.add(proxid.resolve(a.name));
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                final int thread = t;
                results.add(pool.submit(() -> {
                    start.await();
                    long checked = 0;
                    for (int i = 0; i < CALLS; i++) {
                        int pick = (thread * 7 + i) % (expected.size() + 1);
                        if (pick == expected.size()) {
                            // Errors cross the boundary concurrently too.
                            try {
                                proxid.resolve(unknown);
                                throw new AssertionError("resolved " + unknown);
                            } catch (NotFoundException expectedFailure) {
                                checked++;
                            }
                        } else {
                            Identity want = expected.get(pick);
                            Identity got = i % 2 == 0 ? proxid.resolve(want.name())
                                    : proxid.resolveUid(want.uid());
                            assertEquals(want.uid(), got.uid());
                            if (i % 2 == 0) {
                                assertEquals(want, got);
                            }
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            start.countDown();
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertEquals((long) THREADS * CALLS, total);
        }
    }

    @Test
    void closeIsIdempotentAndLaterCallsAreIllegalState() throws ProxidException {
        Proxid proxid = Proxid.open(conf());
        assertFalse(proxid.isClosed());
        assertEquals("root", proxid.resolve("root").name());
        proxid.close();
        proxid.close();
        assertTrue(proxid.isClosed());
        assertThrows(IllegalStateException.class, () -> proxid.resolve("root"));
        assertThrows(IllegalStateException.class, () -> proxid.resolveUid(0));
        assertThrows(IllegalStateException.class, () -> proxid.groups("root"));
        assertThrows(IllegalStateException.class, () -> proxid.authorize("root", "root", "::1"));
        assertThrows(IllegalStateException.class, () -> proxid.shortName("root"));
        assertThrows(IllegalStateException.class, () -> proxid.invalidate(null));
        // Argument checks still come first, as documented.
        assertThrows(NullPointerException.class, () -> proxid.resolve(null));
    }

    /**
     * Closing while other threads are in calls: each call either completes with the
     * right answer or sees IllegalStateException; none sees freed memory.
     */
    @Test
    void closeDuringCallsNeverFreesUnderARunningCall() throws Exception {
        for (int round = 0; round < 20; round++) {
            Proxid proxid = Proxid.open(conf());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            AtomicLong answered = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            CountDownLatch running = new CountDownLatch(4);
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                workers.add(pool.submit(() -> {
                    running.countDown();
                    while (true) {
                        try {
                            assertEquals(0, proxid.resolve("root").uid());
                            answered.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            refused.incrementAndGet();
                            return null;
                        }
                    }
                }));
            }
            running.await();
            proxid.close();
            for (Future<?> w : workers) {
                w.get(1, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertEquals(4, refused.get());
            assertTrue(proxid.isClosed());
        }
    }
}
