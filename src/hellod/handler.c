/* The handler table: every built-in service, looked up by name. */
#include <stddef.h>
#include <string.h>

#include "handler.h"

/*
 * A new built-in is one handler-NAME.c and one line here.  "exec" is not
 * listed: this version rejects it in the configuration.
 */
const struct handler *const handlers[] = {
	&handler_hello,
	&handler_banner,
	&handler_echo,
	&handler_discard,
	&handler_chargen,
	&handler_daytime,
	&handler_time,
	&handler_qotd,
	NULL,
};

/*
 * The handler called name (exact, case-sensitive match), or NULL.
 */
const struct handler *
handler_find(const char *name)
{
	size_t i;

	for (i = 0; handlers[i] != NULL; i++) {
		if (strcmp(handlers[i]->name, name) == 0)
			return handlers[i];
	}
	return NULL;
}
