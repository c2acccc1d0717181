package io.pgcdc.quickstart;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Every log event of this JVM (the worker's and the connectors') from INFO up, while open, keeping
 * those whose message or stack trace contains one of the strings looked for.
 */
final class LogWatch extends AbstractAppender implements AutoCloseable {

    private final List<String> needles;
    private final List<String> found = new ArrayList<>();
    private final Level previousRootLevel;

    private LogWatch(List<String> needles) {
        super("pgcdc-log-watch", null, null, true, Property.EMPTY_ARRAY);
        this.needles = needles;
        this.previousRootLevel = root().getLevel();
    }

    static LogWatch start(String... needles) {
        LogWatch watch = new LogWatch(List.of(needles));
        watch.start();
        LoggerContext context = context();
        context.getConfiguration().addAppender(watch);
        root().addAppender(watch, Level.INFO, null);
        root().setLevel(Level.INFO);
        context.updateLoggers();
        return watch;
    }

    @Override
    public void append(LogEvent event) {
        StringBuilder text = new StringBuilder(event.getMessage().getFormattedMessage());
        if (event.getThrown() != null) {
            StringWriter trace = new StringWriter();
            event.getThrown().printStackTrace(new PrintWriter(trace));
            text.append('\n').append(trace);
        }
        for (String needle : needles) {
            if (text.indexOf(needle) >= 0) {
                synchronized (found) {
                    found.add(event.getLoggerName() + ": " + text);
                }
                return;
            }
        }
    }

    /** The events that contained {@code needle}. */
    List<String> containing(String needle) {
        synchronized (found) {
            return found.stream().filter(line -> line.contains(needle)).toList();
        }
    }

    @Override
    public void close() {
        root().removeAppender(getName());
        root().setLevel(previousRootLevel);
        context().updateLoggers();
        stop();
    }

    private static LoggerContext context() {
        return (LoggerContext) LogManager.getContext(false);
    }

    private static LoggerConfig root() {
        return context().getConfiguration().getRootLogger();
    }
}
