package org.proxid;

/** The directory holds data proxid refuses to interpret (two entries for one name, a missing or invalid ID). Fix the directory. Kind {@code "directory"}. */
public class DirectoryException extends ProxidException {
    private static final long serialVersionUID = 1L;

    public DirectoryException(String message) {
        super("directory", message);
    }

    protected DirectoryException(String kind, String message) {
        super(kind, message);
    }
}
