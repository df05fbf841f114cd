package org.proxid;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Proxid.shortName gives what `proxid principal --json` gives, success or error alike. */
class PrincipalTest {
    private static final Pattern SHORT_NAME = Pattern.compile("\"short_name\":\"([^\"\\\\]*)\"");
    private static final Pattern ERROR = Pattern.compile("\"error\":\"([a-z_]+)\"");

    @Test
    void shortNamesAgreeWithTheCli() throws Exception {
        String conf = TestSupport.writeConfig("principals.conf", String.join("\n",
                "[principals]",
                "auth_to_local = ['RULE:[1:$1@$0](.*@EXAMPLE\\.ORG)s/@.*//',"
                        + " 'RULE:[2:$1@$0](livy@EXAMPLE\\.ORG)s/.*/livy/', \"DEFAULT\"]",
                "default_realm = \"EXAMPLE.ORG\"",
                "")).toString();
        String[] principals = {
            "alice@EXAMPLE.ORG", "alice", "livy/host.example.org@EXAMPLE.ORG",
            "hive/host@OTHER.ORG", "bob@OTHER.ORG", "@EXAMPLE.ORG", "a/b/c@EXAMPLE.ORG", "",
            "alice@", "x\u00e9@EXAMPLE.ORG",
        };
        int answered = 0;
        try (Proxid proxid = Proxid.open(conf)) {
            for (String p : principals) {
                TestSupport.Result cli = TestSupport.run(TestSupport.cli(), "--config", conf,
                        "principal", "--json", "--", p);
                Matcher ok = SHORT_NAME.matcher(cli.out);
                String java;
                try {
                    java = proxid.shortName(p);
                } catch (ProxidException e) {
                    java = "error " + e.kind();
                }
                if (cli.status == 0 && ok.find()) {
                    assertEquals(ok.group(1), java, p);
                    answered++;
                } else {
                    Matcher err = ERROR.matcher(cli.out);
                    // Without a JSON error (no such command yet) any ProxidException agrees.
                    String expected = err.find() ? "error " + err.group(1) : java;
                    assertEquals(expected, java, p + " (cli exit " + cli.status + ")");
                    assertEquals(true, java.startsWith("error "), p + ": the CLI refused it");
                }
            }
        }
        System.out.println("principal table: " + principals.length + " cases, " + answered
                + " short names from `proxid principal`");
    }
}
