/* The handler table: every built-in service, looked up by name; their keys. */
#include <stddef.h>
#include <string.h>

#include "config-key.h"
#include "handler.h"

extern const struct handler handler_hello, handler_banner, handler_echo,
    handler_discard, handler_chargen, handler_daytime, handler_time,
    handler_qotd, handler_exec;

/* A new built-in is one handler-NAME.c, its name above and one line here. */
const struct handler *const handlers[] = {
	&handler_hello,
	&handler_banner,
	&handler_echo,
	&handler_discard,
	&handler_chargen,
	&handler_daytime,
	&handler_time,
	&handler_qotd,
	&handler_exec,
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

const struct key *
handler_key(const struct handler *h, const char *name)
{
	const struct key *k;

	for (k = h->keys; k != NULL && k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct handler *
handler_key_owner(const char *name)
{
	size_t i;

	for (i = 0; handlers[i] != NULL; i++)
		if (handler_key(handlers[i], name) != NULL)
			return handlers[i];
	return NULL;
}
