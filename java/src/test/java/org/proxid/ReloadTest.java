package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Proxid.reload while 8 threads call: nothing fails, nothing mixes two configurations. */
class ReloadTest {
    private static final String PRINCIPAL = "svc@EXAMPLE.ORG";

    /** A configuration whose auth_to_local rules map PRINCIPAL to {@code shortName}. */
    private static String conf(String file, String shortName) {
        return TestSupport.writeConfigUnchecked(file, String.join("\n",
                "[principals]",
                "auth_to_local = ['RULE:[1:$1@$0](svc@EXAMPLE\\.ORG)s/.*/" + shortName + "/']",
                "default_realm = \"EXAMPLE.ORG\"",
                ""));
    }

    @Test
    void reloadUnderEightThreads() throws Exception {
        String a = conf("reload-a.conf", "alpha");
        String b = conf("reload-b.conf", "beta");
        String broken = TestSupport.writeConfigUnchecked("reload-broken.conf",
                "[resolution]\nmode = \"sideways\"\n");
        TestSupport.Account account = TestSupport.localAccounts().get(0);
        // A sequence lock: seq is odd while a reload runs; serving (the short name the
        // configuration in force gives) changes only then.
        AtomicLong seq = new AtomicLong();
        AtomicReference<String> serving = new AtomicReference<>("alpha");
        AtomicBoolean stop = new AtomicBoolean();
        try (Proxid proxid = Proxid.open(a)) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(pool.submit(() -> {
                    long checked = 0;
                    while (!stop.get()) {
                        long before = seq.get();
                        String want = serving.get();
                        String got = proxid.shortName(PRINCIPAL);
                        assertEquals(account.uid, proxid.resolve(account.name).uid());
                        if (before == seq.get() && before % 2 == 0) {
                            assertEquals(want, got);
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            for (int round = 1; round <= 30; round++) {
                seq.incrementAndGet();
                if (round % 3 == 0) {
                    assertThrows(ConfigException.class, () -> proxid.reload(broken));
                } else {
                    boolean toB = serving.get().equals("alpha");
                    proxid.reload(toB ? b : a);
                    serving.set(toB ? "beta" : "alpha");
                }
                seq.incrementAndGet();
                assertEquals(serving.get(), proxid.shortName(PRINCIPAL));
                Thread.sleep(2);
            }
            stop.set(true);
            long checked = 0;
            for (Future<Long> f : results) {
                checked += f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertTrue(checked > 0, "some calls ran between reloads");
        }
    }
}
