#include <stdio.h>
int main(void) { puts("durable"); return 0; }
