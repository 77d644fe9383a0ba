# One image per Tusk service: docker build --build-arg SERVICE=commit-service -t tusk/commit-service .
# (compose.yaml builds all four this way.)
FROM maven:3.9-eclipse-temurin-17 AS build
ARG SERVICE
WORKDIR /src
COPY . .
# The registry runner is only needed by the tests, which the image build skips.
RUN mvn -q -B -pl "${SERVICE}" -am package -DskipTests -Dtusk.skipApicurio=true \
 && mvn -q -B -pl "${SERVICE}" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/app/lib \
 && cp "${SERVICE}/target/${SERVICE}-0.1.0-SNAPSHOT.jar" /app/service.jar

FROM eclipse-temurin:17-jre
# Services, and the transforms a datum processor starts, run as an unprivileged user, never root.
RUN groupadd --system --gid 10001 tusk \
 && useradd --system --uid 10001 --gid tusk --home-dir /app --shell /usr/sbin/nologin tusk \
 && mkdir -p /var/lib/tusk && chown tusk:tusk /var/lib/tusk
COPY --from=build /app /app
COPY --chmod=755 deploy/healthcheck.sh /app/healthcheck
WORKDIR /app
USER 10001:10001
# Each service jar names its main class and lib/ on its manifest class path.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/service.jar"]
