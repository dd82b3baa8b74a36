package dua.producer;

/** Root of every exception the dua SDK throws. */
public class DuaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DuaException(String message) {
    super(message);
  }

  public DuaException(String message, Throwable cause) {
    super(message, cause);
  }
}
