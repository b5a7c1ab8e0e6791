/* log.h - one line per event on stderr, as text (key=value) or JSON. */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_setup(enum log_level level, int json);
int log_enabled(enum log_level level);

/* One event: "key", "value" pairs, ending with NULL. A NULL or empty
 * value leaves its pair out. All values are written as strings. */
void log_event(enum log_level level, const char *event, ...)
	__attribute__((sentinel));

#endif
